# Texts written in Rust (errors, messages, the admin's labels), keyed by their English words (crate::i18n::server_key).
s-page-not-found = Страница не найдена
s-not-allowed = Нет доступа
s-conflict = Конфликт
s-bad-request = Неверный запрос
s-too-many-requests = Слишком много запросов
s-temporarily-unavailable = Временно недоступно
s-too-large = Слишком большой запрос
s-not-possible-here = Здесь так нельзя
s-something-went-wrong = Что-то пошло не так
s-the-address-or-the-form-sent-is-not-valid-for-this-page = Адрес или отправленная форма не подходят для этой страницы.
s-this-page-cannot-be-used-that-way = Этой страницей так пользоваться нельзя.
s-the-service-cannot-reach-its-storage-right-now-please-try-again-in-a-few-seconds = Сервис сейчас не может достучаться до хранилища. Попробуйте ещё раз через несколько секунд.
s-you-have-been-signed-out-please-sign-in-again = Вы вышли из системы. Войдите снова.
s-your-account-has-been-blocked-contact-the-service-s-managers = Ваша учётная запись заблокирована. Обратитесь к менеджерам сервиса.
