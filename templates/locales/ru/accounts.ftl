# Страницы учётной записи: вход, регистрация, пароли, профиль, данные отправителя, токены API.

## Страница учётной записи
account-title = Ваша учётная запись
account-avatar-alt = Ваш аватар
account-email = Электронная почта
account-phone = Телефон
account-role = Роль
account-member-since = Дата регистрации
account-last-sign-in = Последний вход
account-mailings-from = Отправитель рассылок
account-replies-to = Ответы приходят на
account-replies-to-from = адрес отправителя (From)
account-postal-address = Почтовый адрес
account-outgoing-mail = Исходящая почта
account-dkim-signed = Подписывается DKIM для { $domain } (селектор { $selector }, { $algorithm })
account-dkim-unsigned = Без подписи DKIM
account-edit-profile = Изменить профиль
account-sender-details = Данные отправителя
account-change-password = Сменить пароль

## Токены API
account-tokens-title = Токены API
account-tokens-lead-before = Токен позволяет программе работать с
account-tokens-lead-after = от вашего имени: передавайте его в заголовке
account-tokens-scope = Токену доступны только ваши клиенты, сообщения и рассылки.
account-token-created = Токен «{ $name }» создан. Скопируйте его сейчас: хранится только его хеш, больше он показан не будет.
account-tokens-col-name = Название
account-tokens-col-token = Токен
account-tokens-col-created = Создан
account-tokens-col-last-used = Последнее использование
account-tokens-col-actions = Действия
account-token-never = ни разу
account-token-revoke = Отозвать
account-token-revoke-label = Отозвать токен { $name }
account-tokens-empty = Токенов пока нет.
account-token-name = Название нового токена
account-token-name-help = Для чего он, например «CI» или «синхронизация с CRM».
account-token-create = Создать токен

## Пароли
account-password-title = Смена пароля
account-password-current = Текущий пароль
account-password-new = Новый пароль
account-password-new-again = Новый пароль ещё раз
account-password-help = Не меньше 10 символов; не ваш адрес электронной почты и не распространённый пароль.
account-password-submit = Сменить пароль
account-new-password-title = Новый пароль
account-new-password-question = Создать новый пароль?
account-new-password-lead-before = Мы заменим пароль учётной записи
account-new-password-lead-after = новым надёжным паролем и отправим его на этот адрес. На всех устройствах, где выполнен вход в эту учётную запись, произойдёт выход.
account-new-password-submit = Создать и отправить
account-request-new-title = Прислать мне новый пароль
account-request-new-lead = Мы отправим вам ссылку; когда вы её откроете, мы создадим надёжный пароль и пришлём его вам.
account-request-reset-title = Сброс пароля
account-request-reset-lead = Мы отправим вам ссылку, по которой можно задать новый пароль. Она действует один час.
account-request-submit = Отправить ссылку
account-reset-title = Выберите новый пароль
account-reset-for = Для { $email }.
account-reset-submit = Задать пароль

## Ссылки из писем
account-link-error-title = Ссылка недействительна
account-link-error-heading = Этой ссылкой воспользоваться нельзя
account-link-error-reset = Сбросить пароль
account-link-error-sign-in = Войти
account-link-error-sign-in-note = (там можно запросить новую ссылку для подтверждения)
account-reply-to-confirmed-title = Адрес для ответов подтверждён
account-reply-to-confirmed-heading = Адрес подтверждён
account-reply-to-confirmed-before = Ответы на рассылки { $account } теперь приходят на
account-reply-to-confirmed-home = На главную

## Вход и регистрация
account-login-title = Вход
account-login-email = Электронная почта
account-login-password = Пароль
account-login-submit = Войти
account-login-resend = Отправить ссылку для подтверждения ещё раз
account-login-forgot = Забыли пароль?
account-login-new-password = Прислать мне новый пароль
account-login-register = Создать учётную запись
account-register-title = Создание учётной записи
account-register-lead = Мы отправим вам ссылку для подтверждения адреса; войти можно будет после подтверждения.
account-register-password-again = Пароль ещё раз
account-register-phone = Телефон (необязательно)
account-register-avatar = Аватар (необязательно)
account-register-avatar-help = PNG, JPEG, GIF или WebP, до 5 МБ.
account-register-submit = Создать учётную запись
account-register-already = Уже зарегистрированы?
account-register-sign-in = Войдите

## Профиль
account-profile-title = Изменение профиля
account-profile-avatar-alt = Ваш текущий аватар
account-profile-remove-avatar = Удалить аватар
account-profile-new-avatar = Новый аватар
account-profile-avatar-help = PNG, JPEG, GIF или WebP, до 5 МБ; показывается квадратом 256×256.
account-save = Сохранить
account-cancel = Отмена

## Данные отправителя
account-sender-title = Данные отправителя
account-sender-lead = Ваши рассылки уходят с адреса этого сервиса; вы выбираете имя, которое видно рядом с ним, и адрес для ответов.
account-sender-name = Имя отправителя
account-sender-name-help = Показывается как имя в поле From, например «Цветочная лавка». Если пусто — название самого сервиса.
account-sender-reply-to = Ответы приходят на
account-sender-reply-to-now = Сейчас: { $address }.
account-sender-reply-to-now-from = Сейчас: адрес отправителя (From).
account-sender-reply-to-help = Новый адрес начнёт использоваться, когда его владелец откроет ссылку, которую мы на него отправим.
account-sender-postal = Почтовый адрес
account-sender-postal-help = Одна строка внизу каждой рассылки — этого требуют от массовых рассылок законы против спама.
account-language = Язык сайта и ваших писем
account-language-browser = Как просит браузер
account-language-save = Сохранить язык
account-timezone = Часовой пояс
account-timezone-help = Время показывается и вводится в нём, например Europe/Moscow; повторяющиеся рассылки сохраняют в нём своё местное время.
account-timezone-register-help = Время показывается и вводится в нём, например Europe/Moscow. Заполняется по вашему браузеру.

## Problems written in Rust, with values
accounts-sign-in-throttled = Слишком много неудачных попыток входа с этим адресом из вашей сети. Попробуйте снова через { $unit ->
        [seconds] { $count } { $count ->
            [one] секунду
            [few] секунды
           *[other] секунд
        }
       *[minutes] { $count } { $count ->
            [one] минуту
            [few] минуты
           *[other] минут
        }
    } или сбросьте пароль.
