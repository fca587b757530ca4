# Рамка каждой страницы: меню, подвал, выбор языка, страницы списка, страница ошибки.
nav-skip = Перейти к содержимому
nav-home = Главная
nav-blog = Блог
nav-dashboard = Сводка
nav-clients = Клиенты
nav-messages = Сообщения
nav-mailings = Рассылки
nav-admin = Администрирование
nav-reports = Отчёты
nav-account = Учётная запись
nav-sign-out = Выйти
nav-sign-in = Войти
nav-register = Создать учётную запись
nav-menu = Меню
flash-dismiss = Закрыть
footer-tagline = Mailer — рассылки на своём сервере.
footer-status = Состояние
lang-switch = Язык
pager-label = Страницы
pager-page-of = Страница { $page } из { $pages }
error-back-home = На главную

## Problems written in Rust, with values (web/forms.rs, web/error.rs, validation.rs)
site-file-too-large = Файл больше { $count } МБ.
site-text-too-large = Текст больше { $count } МБ.
site-request-too-large = Отправленное больше { $count } МБ — это предел для этой страницы.
site-value-not-valid = Недопустимое значение ({ $code }).
site-form-unreadable = Не удалось прочитать форму: { $detail }
site-field-unreadable = Не удалось прочитать это поле: { $detail }
